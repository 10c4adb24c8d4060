import type { RouteRecordRaw } from 'vue-router'

const routes: RouteRecordRaw[] = [
  {
    path: '/workbench',
    name: 'todo',
    component: () => import('@/views/events/todo/list.vue'),
    meta: { title: 'menu.todo', icon: 'list', order: 1, authority: ['event:read'], menu: true },
  },
  {
    path: '/events/:code',
    name: 'event-detail',
    component: () => import('@/views/events/detail/index.vue'),
    props: true,
    meta: { title: 'event.detail', authority: ['event:read'] },
  },
]
export default routes
